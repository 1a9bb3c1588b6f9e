"""The API's file options name the generated code for every language as the Google API style does.

For package ``regimenguard.v1`` (AIP-191): Java ``com.regimenguard.v1`` with one file per message,
C# ``RegimenGuard.V1``, PHP ``RegimenGuard\\V1``, Ruby ``RegimenGuard::V1``, an Objective-C
prefix of three capitals, and a Go import path ending in ``v1;regimenguardv1``.
"""

from __future__ import annotations

import re

import pytest
from google.protobuf import descriptor_pb2

from regimenguard.v1 import regimen_checker_pb2 as pb

PACKAGE = pb.DESCRIPTOR.package
# "RegimenGuard" as the product's own capitalisation, then the version: RegimenGuard.V1.
PRODUCT, VERSION = "RegimenGuard", PACKAGE.split(".")[-1].capitalize()


@pytest.fixture(scope="module")
def options() -> descriptor_pb2.FileOptions:
    proto = descriptor_pb2.FileDescriptorProto()
    pb.DESCRIPTOR.CopyToProto(proto)
    return proto.options


def test_package_is_versioned() -> None:
    assert PACKAGE == "regimenguard.v1"
    assert PRODUCT.lower() == PACKAGE.split(".")[0]


def test_java(options: descriptor_pb2.FileOptions) -> None:
    assert options.java_package == f"com.{PACKAGE}"
    assert options.java_multiple_files is True
    assert options.java_outer_classname == "RegimenCheckerProto"


def test_csharp_php_ruby(options: descriptor_pb2.FileOptions) -> None:
    assert options.csharp_namespace == f"{PRODUCT}.{VERSION}"
    assert options.php_namespace == f"{PRODUCT}\\{VERSION}"
    assert options.ruby_package == f"{PRODUCT}::{VERSION}"


def test_go_package_is_an_import_path_with_a_versioned_name(
    options: descriptor_pb2.FileOptions,
) -> None:
    path, _, name = options.go_package.partition(";")
    assert re.fullmatch(r"[a-z0-9.-]+\.[a-z]+(/[a-z0-9._-]+)+", path), path
    assert path.endswith("/" + PACKAGE.replace(".", "/"))
    assert name == PACKAGE.replace(".", "")


def test_objc_class_prefix(options: descriptor_pb2.FileOptions) -> None:
    # Three or more capitals, not the reserved "GPB".
    assert re.fullmatch(r"[A-Z]{3,}", options.objc_class_prefix)
    assert options.objc_class_prefix != "GPB"
