from commerce_core.events.periodic import every

runs = {"count": 0}


@every(seconds=0.1)
def count_runs():
    runs["count"] += 1
