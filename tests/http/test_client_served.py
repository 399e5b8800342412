"""The node serves the client SDK under /client/ (ES modules: JavaScript content type, CORS so
front ends on other origins can import them, revalidated caching), and its API answers
browsers on other origins (CORS, with Retry-After readable)."""

import httpx

ORIGIN = "https://board.example"


def test_client_modules_are_served_as_javascript_with_revalidated_caching(live_node):
    for name in [
        "index.js",
        "client.js",
        "signers.js",
        "canonical.js",
        "errors.js",
        "widget.js",
        "react.js",
        "react-factory.js",
    ]:
        response = live_node.node.get(f"/client/{name}", headers={"Origin": ORIGIN})
        assert response.status_code == 200, name
        assert response.headers["content-type"] == "text/javascript; charset=utf-8"
        assert response.headers["cache-control"] == "public, no-cache"
        assert response.headers["access-control-allow-origin"] == "*"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["etag"]
        again = live_node.node.get(
            f"/client/{name}", headers={"If-None-Match": response.headers["etag"]}
        )
        assert again.status_code == 304 and again.content == b""
        assert again.headers["cache-control"] == "public, no-cache"


def test_only_the_package_sources_are_served(live_node):
    assert live_node.node.get("/client/nope.js").status_code == 404
    assert live_node.node.get("/client/../package.json").status_code == 404
    assert live_node.node.get("/client/%2e%2e/package.json").status_code == 404
    refused = httpx.post(f"{live_node.node.url}/client/index.js", timeout=10)
    assert refused.status_code == 405 and refused.json()["error"] == "method_not_allowed"


def test_the_dashboard_loads_the_client_from_the_node(live_node):
    app = live_node.node.get("/static/app.js").text
    assert 'from "/client/index.js"' in app
    for gone in ["connection.js", "identity.js", "canonical.js"]:
        assert live_node.node.get(f"/static/{gone}").status_code == 404


def test_api_answers_browsers_on_other_origins(live_node):
    status = live_node.node.get("/api/status", headers={"Origin": ORIGIN})
    assert status.headers["access-control-allow-origin"] == "*"
    assert "retry-after" in status.headers["access-control-expose-headers"].lower()
    preflight = httpx.options(
        f"{live_node.node.url}/api/broadcast",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, authorization",
        },
        timeout=10,
    )
    assert preflight.status_code == 200
    assert "POST" in preflight.headers["access-control-allow-methods"]
    allowed = preflight.headers["access-control-allow-headers"].lower()
    assert "content-type" in allowed and "authorization" in allowed
