from commerce_core.web.urls import handler400, handler404, handler500, service_urlpatterns  # noqa: F401

urlpatterns = service_urlpatterns("bustest", "tests.inputapp.urls")
