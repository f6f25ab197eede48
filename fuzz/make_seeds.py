#!/usr/bin/env python3
"""Writes the seed corpus fuzz/corpus/<target>/ from the provider crates'
test fixtures (crates/*/tests/fixtures) and a few hand-written inputs.

Decoder seeds are a 3-byte header (HTTP status, little endian; content type
index, see CONTENT_TYPES in src/lib.rs) followed by the fixture's bytes.
Run from the repository root: python3 fuzz/make_seeds.py
"""
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fuzz" / "corpus"

JSON, HTML, NONE = 0, 1, 2

GENERIC = [
    ("empty_200", 200, JSON, b""),
    ("truncated_200", 200, JSON, b'{"access_token":"at0123456789abcdef","expires_in":72'),
    ("wrong_types_200", 200, JSON, b'{"access_token":{"v":1},"expires_in":"soon","refresh_token":["x"]}'),
    ("missing_access_token_200", 200, JSON, b'{"token_type":"Bearer","expires_in":7200}'),
    ("redirect_302", 302, NONE, b""),
    ("rate_limited_429", 429, JSON, b'{"error":"rate_limited"}'),
    ("unavailable_503", 503, NONE, b"Service Unavailable"),
    ("array_200", 200, JSON, b"[1,2]"),
]


def header(status, kind):
    return status.to_bytes(2, "little") + bytes([kind])


def status_of(provider, name):
    m = re.match(r"error_(\d{3})_", name)
    if m:
        return int(m.group(1))
    if provider == "aliexpress":
        if name.startswith("html_502"):
            return 502
        if name.startswith("error_a_"):
            return 400
        return 200
    if provider == "orangeconnex":
        if name.startswith("error_page"):
            return 502
        return {"error_server_error.json": 500, "error_unauthorized.json": 401}.get(
            name, 400 if name.startswith("error_") else 200
        )
    return 200


def write(target, name, data):
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


# The providers in the order of oauth_all::PROVIDERS with every feature on:
# byte 0 of a `decode_token_response` seed is the index in this list
# (tests/tests/fuzz_smoke.rs checks it against the registry).
PROVIDERS = ["orangeconnex", "aliexpress", "ebay", "eshopbox"]


def decoders():
    for provider in PROVIDERS:
        target = f"decode_{provider}"
        fixtures = ROOT / "crates" / f"oauth-{provider}" / "tests" / "fixtures"
        for path in sorted(fixtures.iterdir()):
            if path.suffix not in (".json", ".html"):
                continue
            kind = HTML if path.suffix == ".html" else JSON
            data = header(status_of(provider, path.name), kind) + path.read_bytes()
            write(target, path.stem, data)
        for name, status, kind, body in GENERIC:
            write(target, name, header(status, kind) + body)
    # The registry-driven target: every provider's seeds, prefixed with the
    # provider's index (named `<provider>.<seed>`).
    for index, provider in enumerate(PROVIDERS):
        for path in sorted((CORPUS / f"decode_{provider}").iterdir()):
            write("decode_token_response", f"{provider}.{path.name}", bytes([index]) + path.read_bytes())


CALLBACKS = {
    "decoded_once": "s-123\nhttps://app.example/cb?state=s-123&code=a%5Eb%23c%2Fd%2Be%3Df%25252F+g&expires_in=299",
    "ebay": "Zm9vYmFy\nhttps://app.example/ebay/accepted?state=Zm9vYmFy&code=v%5E1.1%23i%5E1%23f%5E0&expires_in=299",
    "declined": "s-1\nhttps://a.example/cb?error=access_denied&error_description=The+user+said%20no&state=s-1",
    "aliexpress": "st\nhttps://app.example/ae/cb?code=3_500102_JxZ05Ux3cnnSSUm6dCxYg6Q26&state=st",
    "orangeconnex": "xyz\nhttps://app.example/oc/callback?code=AbC%252Fdef%253D&state=xyz",
    "duplicate": "s\nhttps://a.example/cb?state=s&code=a&code=b",
    "bad_encoding": "s\nhttps://a.example/cb?state=s&code=%FF",
    "wrong_state": "s\nhttps://a.example/cb?state=t&code=c",
    "relative": "s\n/cb?code=a&state=s",
}

SIGNER = {
    "vector_create": "helloworld\n/auth/token/create\napp_key=12345678\ncode=3_500102_JxZ05Ux3cnnSSUm6dCxYg6Q26\nsign_method=sha256\ntimestamp=1517820392000",
    "vector_business": "helloworld\naliexpress.logistics.redefining.getonlinelogisticsinfo\naccess_token=test\naliexpress_category_id=200135143\napp_key=123456\nmethod=aliexpress.logistics.redefining.getonlinelogisticsinfo\nsign_method=sha256\ntimestamp=1517820392000",
    "vector_order": "helloworld\n/order/get\naccess_token=test\napp_key=123456\norder_id=1234\nsign_method=sha256\ntimestamp=1517820392000",
    "empty_and_sign": "k\n/auth/token/refresh\nrefresh_token=r\nuuid=\nsign=ABC",
    "blank_secret": " \n/auth/token/create\ncode=x",
}


def main():
    decoders()
    for name, text in CALLBACKS.items():
        write("parse_callback", name, text.encode())
    for name, text in SIGNER.items():
        write("aliexpress_signer", name, text.encode())


if __name__ == "__main__":
    main()
