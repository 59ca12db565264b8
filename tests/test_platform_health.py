"""The launcher's promise: every process of the platform up, and the gateway saying so."""

import httpx

from commerce_core.settings.topology import SERVICES


def _component_paths(components, prefix="") -> list[str]:
    """Every key of the (possibly nested) components object as a dotted path."""
    if not isinstance(components, dict):
        return []
    paths = []
    for key, value in components.items():
        path = f"{prefix}{key}".lower()
        paths.append(path)
        paths.extend(_component_paths(value, f"{path}."))
    return paths


def test_the_platform_reports_healthy_when_everything_runs(platform):
    response = httpx.get(platform.url("/health"), timeout=10)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok"
    paths = _component_paths(body["components"])
    assert any("redis" in path for path in paths), paths
    for service in SERVICES:
        assert any(service.name in path and "worker" not in path for path in paths), (service.name, paths)
        assert any(service.name in path and "worker" in path for path in paths), (f"{service.name} worker", paths)
