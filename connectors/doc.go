// Package connectors groups weir's Source and Sink implementations, one
// subpackage per system (Kafka, ClickHouse, PostgreSQL and MySQL CDC,
// Redis, files). Each implements the contract of package operators and is
// tested against the real system.
package connectors
