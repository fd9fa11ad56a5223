# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Talk to an OCI/Docker registry: which digest a tag points at (HEAD on the manifests endpoint),
and whether credentials are accepted (an authenticated ``GET /v2/``, optionally a manifest HEAD).

Handles anonymous access, Basic auth and the Bearer token flow (``WWW-Authenticate: Bearer
realm=...,service=...,scope=...``). Credentials travel only in request headers; errors never
contain them.
"""

from __future__ import annotations

import base64
import json
import re
import ssl
import urllib.error
import urllib.parse
import urllib.request

from ansible_collections.datasurface.yellow.plugins.module_utils.image_reference import InvalidReference, parse_reference

MANIFEST_TYPES = ", ".join(
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')
# Host names a docker config may use for Docker Hub; its registry API is served by DOCKER_HUB_API.
DOCKER_HUB_NAMES = ("docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com")
DOCKER_HUB_API = "https://registry-1.docker.io"


class RegistryError(Exception):
    """A registry lookup failed; ``kind`` is auth, not_found, unreachable, tls or protocol."""

    def __init__(self, kind, message):
        super().__init__(message)
        self.kind = kind


class _NoRedirectAuth(urllib.request.HTTPRedirectHandler):
    """Follow redirects but drop the Authorization header when the host changes."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and urllib.parse.urlsplit(newurl).netloc != urllib.parse.urlsplit(req.full_url).netloc:
            new.remove_header("Authorization")
        return new


def registry_api_url(server):
    """The registry API's base URL for ``server``: a URL (``http://10.0.0.5:5000``), a host
    (``ghcr.io``, HTTPS) or a docker config key (``https://index.docker.io/v1/`` is Docker Hub).

    The path is dropped (the API is always at ``/v2/``). Raises ValueError without echoing the value
    when it is not usable (no host, another scheme, credentials in it).
    """
    if not isinstance(server, str) or not server.strip():
        raise ValueError("must be a registry URL or host name")
    text = server.strip()
    if "://" not in text:
        text = "https://" + text
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https"):
        raise ValueError("must use http:// or https://")
    if "@" in parts.netloc:
        raise ValueError("must not carry credentials (give them as username and password)")
    if not parts.hostname:
        raise ValueError("has no host")
    if parts.hostname in DOCKER_HUB_NAMES:
        return DOCKER_HUB_API
    return "%s://%s" % (parts.scheme, parts.netloc)


def scrub(text, secret):
    """``text`` with every occurrence of ``secret`` replaced."""
    return text.replace(secret, "********") if secret else text


def parse_challenge(header):
    """Split a WWW-Authenticate header into (scheme, params)."""
    scheme, _sep, rest = (header or "").strip().partition(" ")
    return scheme.lower(), dict(_CHALLENGE_PARAM.findall(rest))


class RegistryClient:
    """Minimal registry API client for digest lookups."""

    def __init__(self, base_url, username=None, password=None, ca_file=None, insecure=False, timeout=30.0):
        self.base_url = base_url.rstrip("/")
        self.username = username
        self.password = password
        self.timeout = timeout
        if base_url.startswith("https://"):
            context = ssl.create_default_context(cafile=ca_file)
            if insecure:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            self._opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context), _NoRedirectAuth())
        else:
            self._opener = urllib.request.build_opener(_NoRedirectAuth())

    def _basic(self):
        raw = "%s:%s" % (self.username or "", self.password or "")
        return "Basic " + base64.b64encode(raw.encode("utf-8")).decode("ascii")

    def _open(self, request):
        try:
            return self._opener.open(request, timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            return exc
        except ssl.SSLError as exc:
            raise RegistryError("tls", "TLS error talking to %s: %s" % (self.base_url, exc.reason or exc)) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, ssl.SSLError):
                raise RegistryError("tls", "TLS error talking to %s: %s" % (self.base_url, reason)) from None
            raise RegistryError("unreachable", "cannot reach %s: %s" % (self.base_url, reason)) from None

    def _token(self, params, repository):
        """A Bearer authorization from the challenge's token service (``repository=None``: no scope
        unless the challenge names one, as ``docker login`` asks)."""
        realm = params.get("realm")
        if not realm:
            raise RegistryError("protocol", "registry sent a Bearer challenge without a realm")
        query = {}
        scope = params.get("scope") or ("repository:%s:pull" % repository if repository else None)
        if scope:
            query["scope"] = scope
        if params.get("service"):
            query["service"] = params["service"]
        request = urllib.request.Request(realm + ("&" if "?" in realm else "?") + urllib.parse.urlencode(query))
        if self.username:
            request.add_header("Authorization", self._basic())
        response = self._open(request)
        if response.status in (401, 403):
            raise RegistryError("auth", "the registry's token service refused the credentials (HTTP %d)" % response.status)
        if response.status != 200:
            raise RegistryError("protocol", "token service answered HTTP %d" % response.status)
        try:
            body = json.loads(response.read().decode("utf-8"))
        except ValueError:
            raise RegistryError("protocol", "token service answered something that is not JSON") from None
        token = body.get("token") or body.get("access_token")
        if not token:
            raise RegistryError("protocol", "token service answered without a token")
        return "Bearer " + token

    def manifest_digest(self, repository, reference):
        """The digest the registry serves for ``repository:reference``."""
        url = "%s/v2/%s/manifests/%s" % (self.base_url, repository, urllib.parse.quote(reference, safe=":"))
        authorization = None
        for _attempt in range(3):
            request = urllib.request.Request(url, method="HEAD", headers={"Accept": MANIFEST_TYPES})
            if authorization:
                request.add_header("Authorization", authorization)
            response = self._open(request)
            status = response.status
            if status == 200:
                digest = response.headers.get("Docker-Content-Digest")
                if not digest:
                    raise RegistryError("protocol", "registry answered without a Docker-Content-Digest header")
                return digest
            if status == 404:
                raise RegistryError("not_found", "%s:%s not found in the registry" % (repository, reference))
            if status == 401 and authorization is None:
                scheme, params = parse_challenge(response.headers.get("WWW-Authenticate", ""))
                if scheme == "bearer":
                    authorization = self._token(params, repository)
                    continue
                if scheme == "basic" and self.username:
                    authorization = self._basic()
                    continue
                raise RegistryError("auth", "the registry requires credentials (HTTP 401) and none were given")
            if status in (401, 403):
                raise RegistryError("auth", "the registry refused the credentials (HTTP %d)" % status)
            raise RegistryError("protocol" if status < 500 else "unreachable", "registry answered HTTP %d" % status)
        raise RegistryError("auth", "the registry kept asking for authentication")

    def check_login(self):
        """Prove the credentials with an authenticated ``GET /v2/``.

        Follows the registry's challenge: Basic, or a Bearer token from the token service (which
        checks the credentials). Returns ``(auth_scheme, authenticated)``: the scheme is ``none``
        when the registry answers without credentials (then they cannot be proven: authenticated is
        false unless the registry refuses them outright), ``basic`` or ``bearer``.
        """
        url = self.base_url + "/v2/"
        response = self._open(urllib.request.Request(url))
        status = response.status
        if status == 200:
            if not self.username:
                return "none", False
            # Open to everyone; a registry that checks Basic anyway refuses wrong credentials here.
            response = self._open(urllib.request.Request(url, headers={"Authorization": self._basic()}))
            if response.status in (401, 403):
                raise RegistryError("auth", "the registry refused the credentials (HTTP %d)" % response.status)
            return "none", False
        if status == 404:
            raise RegistryError("protocol", "no registry API at %s (HTTP 404)" % url)
        if status != 401:
            raise RegistryError("protocol" if status < 500 else "unreachable", "registry answered HTTP %d on /v2/" % status)
        scheme, params = parse_challenge(response.headers.get("WWW-Authenticate", ""))
        if scheme == "bearer":
            authorization = self._token(params, None)
        elif scheme == "basic":
            if not self.username:
                raise RegistryError("auth", "the registry requires credentials (HTTP 401) and none were given")
            authorization = self._basic()
        else:
            raise RegistryError("protocol", "the registry asks for an unsupported authentication scheme %r" % scheme[:20])
        response = self._open(urllib.request.Request(url, headers={"Authorization": authorization}))
        if response.status in (401, 403):
            raise RegistryError("auth", "the registry refused the credentials (HTTP %d)" % response.status)
        if response.status != 200:
            raise RegistryError("protocol" if response.status < 500 else "unreachable",
                                "registry answered HTTP %d on /v2/ with credentials" % response.status)
        return scheme, bool(self.username)


def check_credentials(server, username=None, password=None, image=None, ca_file=None, insecure=False, timeout=30.0,
                      client_factory=RegistryClient):
    """Check ``username``/``password`` against the registry at ``server`` and, with ``image`` (a
    reference or ``repository:tag``; its registry part is not used), that they may pull it.

    Returns ``{"registry", "auth_scheme", "authenticated", "digest"}``; raises RegistryError (kind
    auth, not_found, tls, unreachable or protocol) with a message that never holds the password.
    """
    try:
        base_url = registry_api_url(server)
    except ValueError as exc:
        raise RegistryError("protocol", "registry %s" % exc) from None
    reference = None
    if image:
        try:
            reference = parse_reference(image)
        except InvalidReference as exc:
            raise RegistryError("protocol", "image: %s" % scrub(str(exc), password)) from None
    client = client_factory(base_url, username=username, password=password, ca_file=ca_file, insecure=insecure,
                            timeout=timeout)
    result = {"registry": base_url, "auth_scheme": None, "authenticated": False, "digest": None}
    try:
        result["auth_scheme"], result["authenticated"] = client.check_login()
        if reference is not None:
            try:
                result["digest"] = client.manifest_digest(reference.repository, reference.manifest_reference)
            except RegistryError as exc:
                if exc.kind == "auth":
                    raise RegistryError("auth", "no pull access to %s:%s: %s" % (
                        reference.repository, reference.manifest_reference, exc)) from None
                raise
    except RegistryError as exc:
        raise RegistryError(exc.kind, scrub(str(exc), password)) from None
    return result
