"""Reading medication orders as pharmacists type them ("sigs") into domain orders.

Pure Python, shared by the command line and the HTTP API: ``read_sig(text, catalog)`` gives a
``SigReading`` (a ``regimenguard.regimen.model.MedicationOrder`` and the assumptions the reading made), or
raises ``SigParseError`` quoting the words it could not read and saying what it expected.
"""

from regimenguard.regimen.sig.grammar import ParsedSig, Quantity, SigParseError, parse_sig
from regimenguard.regimen.sig.products import NO_PRODUCTS, Product, ProductCatalog, ProductStrength
from regimenguard.regimen.sig.reading import SigReading, read_sig

__all__ = [
    "NO_PRODUCTS",
    "ParsedSig",
    "Product",
    "ProductCatalog",
    "ProductStrength",
    "Quantity",
    "SigParseError",
    "SigReading",
    "parse_sig",
    "read_sig",
]
