"""The games service: the catalog (admin-managed, publicly readable) and players' libraries."""
