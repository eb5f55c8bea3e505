"""The catalog (справочники): rules shared by its owner (the registry) and its copies (the
gateway and the LAN writer). See docs/catalog.md."""
