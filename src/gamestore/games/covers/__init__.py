"""Cover images of games: uploads processed into renditions, a storage port with disk and S3
adapters, generated artwork for games without an upload, and the URLs clients load them from
(docs/adr/016-covers.md)."""
