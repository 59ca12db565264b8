"""Events the catalog subscribes to. (Review aggregates and stock reservation
belong to the commerce domain and arrive with it.)"""
