"""The clinic's upstream server (`gaitkiosk server`): Starlette on PostgreSQL. docs/sync.md."""
