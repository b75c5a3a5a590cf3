from flask.testing import FlaskClient


def test_the_api_describes_itself_from_its_schemas(client: FlaskClient) -> None:
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    paths = spec["paths"]
    for path in ("/api/auth/signup", "/api/auth/login", "/api/auth/me", "/api/health"):
        assert path in paths
    signup_body = paths["/api/auth/signup"]["post"]["requestBody"]["content"]
    schema_ref = signup_body["application/json"]["schema"]["$ref"]
    schema = spec["components"]["schemas"][schema_ref.rsplit("/", 1)[1]]
    assert set(schema["required"]) == {"email", "password"}
    assert "Error" in spec["components"]["schemas"]
