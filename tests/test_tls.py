"""TLS: verification is on by default; a private CA works through extra.verify; http only when asked for."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import json
import logging
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from airflow_provider_dataarts.emulator import Emulator
from airflow_provider_dataarts.exceptions import DataArtsApiError
from airflow_provider_dataarts.hooks.dataarts import DataArtsHook
from airflow_provider_dataarts.transport import DEFAULT_ENDPOINTS, KNOWN_REGIONS, ConnectionConfig

FAST = {"retry_limit": 3, "retry_delay": 0.01, "retry_max_delay": 0.05}


def _certificate(subject, issuer, public_key, signing_key, *, ca):
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        # Python 3.13 verifies strictly (VERIFY_X509_STRICT): key identifiers, and a CA's key usage.
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key()), critical=False)
    )
    if ca:
        signs_only = x509.KeyUsage(
            digital_signature=False,
            content_commitment=False,
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=True,
            crl_sign=True,
            encipher_only=False,
            decipher_only=False,
        )
        builder = builder.add_extension(signs_only, critical=True)
    if not ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
    return builder.sign(signing_key, hashes.SHA256())


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A private CA and a server certificate for 127.0.0.1 signed by it."""
    folder = tmp_path_factory.mktemp("pki")
    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "DataArts test CA")])
    ca_cert = _certificate(ca_name, ca_name, ca_key.public_key(), ca_key, ca=True)
    server_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    server_cert = _certificate(server_name, ca_name, server_key.public_key(), ca_key, ca=False)
    (folder / "ca.pem").write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    (folder / "server.pem").write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    (folder / "server.key").write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return folder


@pytest.fixture
def https_emulator(pki, monkeypatch):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(pki / "server.pem", pki / "server.key")
    with Emulator(ssl_context=context) as emulator:
        assert emulator.url.startswith("https://127.0.0.1:")

        def use(**extra):
            monkeypatch.setenv("AIRFLOW_CONN_DATAARTS_DEFAULT", emulator.connection_json(**extra))

        yield emulator, use


def test_self_signed_server_fails_by_default_without_retries(https_emulator, caplog):
    emulator, use = https_emulator
    use()
    with caplog.at_level(logging.WARNING), pytest.raises(DataArtsApiError) as info:
        DataArtsHook(**FAST).list_quality_instances()
    assert "TLS certificate verification failed" in str(info.value) and "extra.verify" in str(info.value)
    assert not [r for r in caplog.records if "retrying in" in r.getMessage()]  # retrying cannot fix it
    assert not emulator.service.log


def test_private_ca_bundle_in_extra_verify(https_emulator, pki):
    emulator, use = https_emulator
    use(verify=str(pki / "ca.pem"))
    assert DataArtsHook(**FAST).list_quality_instances()["count"] == 0
    assert emulator.service.calls["quality_list"] == 1


def test_async_path_verifies_too(https_emulator, pki):
    emulator, use = https_emulator
    use()
    with pytest.raises(DataArtsApiError, match="TLS certificate verification failed"):
        asyncio.run(DataArtsHook(**FAST).aget_quality_instance("1"))
    use(verify=str(pki / "ca.pem"))
    assert asyncio.run(DataArtsHook(**FAST).aget_quality_instance("1")) is None
    assert emulator.service.calls["quality_list"] == 1


def test_ca_bundle_from_the_environment_applies_to_sync_and_async_calls(https_emulator, pki, monkeypatch):
    emulator, use = https_emulator
    use()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(pki / "ca.pem"))
    assert DataArtsHook(**FAST).list_quality_instances()["count"] == 0
    assert asyncio.run(DataArtsHook(**FAST).aget_quality_instance("1")) is None
    assert emulator.service.calls["quality_list"] == 2


def test_verification_can_be_switched_off_explicitly(https_emulator, caplog):
    _, use = https_emulator
    use(verify="false")
    with pytest.warns(Warning, match="Unverified HTTPS request"):  # and it is said out loud
        assert DataArtsHook(**FAST).list_quality_instances()["count"] == 0
    with caplog.at_level(logging.WARNING):
        assert asyncio.run(DataArtsHook(**FAST).aget_quality_instance("1")) is None
    assert "TLS certificate verification is off" in caplog.text


def test_region_defaults_are_https_only():
    assert all(url.startswith("https://") for url in DEFAULT_ENDPOINTS.values())
    conn = type(
        "Conn",
        (),
        {"conn_id": "c", "login": "ak", "password": "sk", "host": None, "extra": json.dumps({"region": "cn-north-4"})},
    )()
    config = ConnectionConfig.from_connection(conn)
    for service in ("quality", "factory", "check", "iam"):
        assert config.endpoint(service).startswith("https://") and "cn-north-4" in config.endpoint(service)
    assert "cn-north-4" in KNOWN_REGIONS and config.verify is True


def test_a_host_without_scheme_is_refused_not_guessed():
    """Guessing https for the emulator's plain HTTP hangs until the read timeout; http would leak."""
    conn = type(
        "Conn", (), {"conn_id": "c", "login": "ak", "password": "sk", "host": "dayu.example.com", "extra": "{}"}
    )()
    with pytest.raises(
        ValueError, match=r"^connection host must start with http:// or https://, got 'dayu.example.com'"
    ):
        ConnectionConfig.from_connection(conn)
