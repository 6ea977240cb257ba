"""Personal data, validated rather than matched: a regex finds candidates, a validator decides.

Cards pass the Luhn check (ISO/IEC 7812-1 annex B) and a known issuer range; IBANs
pass the ISO 13616 mod-97 check (``python-stdnum``); US SSNs exclude the ranges
the SSA never issues (area 000, 666, 900-999; group 00; serial 0000); phone
numbers are parsed and validated by ``phonenumbers``; IP addresses by
``ipaddress``; dates count as dates of birth only next to birth words. National
ids are validated by ``python-stdnum``; the ones without a distinctive format
count only next to their name.

The scanner (``scanner``) runs one module per family: ``contact`` (e-mail),
``payment`` (cards, IBANs), ``ids`` (SSNs, national ids), ``network`` (IP
addresses) and ``birth`` (dates of birth); phone numbers are ``phones``.
"""

from proctor.scanners.pii.finding import NAME
from proctor.scanners.pii.scanner import PiiScanner

__all__ = ["NAME", "PiiScanner"]
