from storage.url_credentials import without_password


def test_a_password_in_a_url_is_replaced():
    assert (
        without_password("http://pins:s3cret@127.0.0.1:9097/x")
        == "http://pins:***@127.0.0.1:9097/x"
    )
    assert without_password("https://[::1]:5001") == "https://[::1]:5001"
    assert without_password("/ip4/127.0.0.1/tcp/5001/http") == "/ip4/127.0.0.1/tcp/5001/http"
    assert without_password("http://token@host") == "http://token@host"
