"""Shtrih-M classic ("v1") protocol: frames, field codecs, commands, error codes
and the ``ShtrihDriver`` implementing ``device.FiscalDevice``.

Byte layouts are recorded, with their sources, in docs/kkt_shtrih_protocol.md.
"""
