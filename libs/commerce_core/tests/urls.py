from commerce_core.web.urls import service_urlpatterns

urlpatterns = service_urlpatterns("bustest", [])
