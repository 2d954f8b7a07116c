"""store: the kiosk's local database (DESIGN section 2; docs/store.md).

``open_store(data_dir)`` returns a :class:`store.api.Store`; the modules are
split by idea: ``db`` (open, refuse, pragmas), ``migrations`` (the schema),
one repository per table group, ``codec`` (recording chunks), ``writer``
(the recording thread), ``retention``, ``backup``, ``export``.
"""


def __getattr__(name):
    # Lazy: `from store.errors import ...` must not pull numpy and zstandard in.
    if name in ("open_store", "Store"):
        from store import api

        return getattr(api, name)
    raise AttributeError(name)
