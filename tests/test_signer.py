"""Our SDK-HMAC-SHA256 signer must equal Huawei's own, byte for byte."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_provider_dataarts import signer

SDK_DATE = "20261124T093000Z"
HOST = "dayu.cn-north-4.myhuaweicloud.com"

# Path segments and query text: spaces, unicode, reserved and percent characters, empties.
text = st.text(
    alphabet=st.sampled_from(list("abcXYZ019 -_.~!*'()/?#[]@$&+,;=%:\u00fc\u4e2d\U0001f600\t")),
    max_size=12,
)
segments = st.lists(text.filter(bool), min_size=1, max_size=4)
queries = st.lists(st.tuples(text, text), max_size=5).flatmap(
    lambda pairs: st.just(pairs + pairs[:1])  # a repeated name (and value) when there is any pair
)
bodies = st.one_of(st.just(b""), st.binary(min_size=1, max_size=64), st.just(b'{"rule_id":"1","rule_type":1}'))
extra_headers = st.dictionaries(
    st.sampled_from(["workspace", "X-Project-Id", "X-Security-Token", "X_Ignored_Header", "X-Custom"]),
    st.text(alphabet=st.sampled_from(list("abc012-_ ")), min_size=1, max_size=10),
    max_size=4,
)


def sdk_authorization(method, path, query, headers, body, ak="AKID", sk="secret/KEY+1"):
    request = SdkRequest(method, "https", HOST, path, query_params=list(query), header_params=dict(headers), body=body)
    Signer(BasicCredentials(ak, sk)).sign(request)
    return request.header_params["Authorization"], request.uri


@settings(max_examples=300, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]),
    path_segments=segments,
    query=queries,
    body=bodies,
    headers=extra_headers,
)
def test_signature_equals_huawei_sdk(method, path_segments, query, body, headers):
    path = "/" + "/".join(quote(segment, safe="") for segment in path_segments)
    headers = {"Content-Type": "application/json", "X-Sdk-Date": SDK_DATE, "Host": HOST, **headers}

    expected, sdk_uri = sdk_authorization(method, path, query, headers, body)
    ours = signer.sign(method=method, path=path, query=query, headers=headers, body=body, ak="AKID", sk="secret/KEY+1")

    assert ours == expected
    # What we send is what the SDK sends: the same sorted, encoded query string.
    canonical = signer.canonical_query(query)
    assert (f"{path}?{canonical}" if canonical else path) == sdk_uri


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/v1/p/jobs/my%20job/start", "/v1/p/jobs/my%20job/start/"),  # always ends in /
        ("/v1/p/jobs/a%2Fb/start", "/v1/p/jobs/a/b/start/"),  # an encoded / signs as a real one
        ("/v2/tasks/%E4%B8%AD/stop", "/v2/tasks/%E4%B8%AD/stop/"),
    ],
)
def test_canonical_path_quirks(path, expected):
    assert signer.canonical_path(path) == expected


def test_headers_with_underscore_are_not_signed():
    headers = {"Host": HOST, "X-Sdk-Date": SDK_DATE, "x_custom": "1"}
    authorization = signer.sign(method="GET", path="/", query=(), headers=headers, body=b"", ak="a", sk="s")
    assert "SignedHeaders=host;x-sdk-date," in authorization


def test_secret_key_is_not_in_the_authorization_header():
    headers = {"Host": HOST, "X-Sdk-Date": SDK_DATE}
    authorization = signer.sign(method="GET", path="/", query=(), headers=headers, body=b"", ak="a", sk="TOPSECRET")
    assert "TOPSECRET" not in authorization
