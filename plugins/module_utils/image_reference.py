# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Container image references: parse and normalise them the way containerd names images."""

from __future__ import annotations

import re

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
_DIGEST = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_PATH_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")


class InvalidReference(ValueError):
    """The reference is not a valid image reference."""


class ImageReference:
    """An image reference split into registry host, repository path, tag and digest."""

    def __init__(self, registry, repository, tag=None, digest=None):
        self.registry = registry
        self.repository = repository
        self.tag = tag
        self.digest = digest

    @property
    def name(self):
        """The fully qualified name containerd stores (tag and digest kept as given)."""
        name = "%s/%s" % (self.registry, self.repository)
        if self.tag:
            name += ":" + self.tag
        if self.digest:
            name += "@" + self.digest
        return name

    @property
    def api_host(self):
        """The host that serves the registry API for this reference."""
        return DOCKER_HUB_API if self.registry == DOCKER_HUB else self.registry

    @property
    def manifest_reference(self):
        """What to ask the registry's manifests endpoint for: the digest if pinned, else the tag."""
        return self.digest or self.tag

    def __repr__(self):
        return "ImageReference(%r)" % self.name


def _looks_like_registry(component):
    return "." in component or ":" in component or component == "localhost" or component != component.lower()


def parse_reference(text):
    """Parse ``text`` into an :class:`ImageReference`, applying Docker Hub's defaults.

    ``busybox`` -> ``docker.io/library/busybox:latest``; a reference with only a digest keeps no tag.
    """
    if not isinstance(text, str) or not text or text != text.strip():
        raise InvalidReference("image reference must be a non-empty string without surrounding spaces")
    remainder, digest = text, None
    if "@" in remainder:
        remainder, digest = remainder.split("@", 1)
        if not _DIGEST.match(digest):
            raise InvalidReference("%r has an invalid digest %r" % (text, digest))
    tag = None
    last_slash = remainder.rfind("/")
    colon = remainder.rfind(":")
    if colon > last_slash:
        remainder, tag = remainder[:colon], remainder[colon + 1:]
        if not _TAG.match(tag):
            raise InvalidReference("%r has an invalid tag %r" % (text, tag))
    components = remainder.split("/")
    if len(components) > 1 and _looks_like_registry(components[0]):
        registry, path = components[0], components[1:]
    else:
        registry, path = DOCKER_HUB, components
    if registry in ("index.docker.io", "registry-1.docker.io"):
        registry = DOCKER_HUB
    if registry == DOCKER_HUB and len(path) == 1:
        path = ["library"] + path
    for component in path:
        if not _PATH_COMPONENT.match(component):
            raise InvalidReference("%r has an invalid repository path component %r" % (text, component))
    if tag is None and digest is None:
        tag = "latest"
    return ImageReference(registry, "/".join(path), tag, digest)
