"""Registry: tenants, devices and PINs, users and groups — the directory the rest trusts."""
