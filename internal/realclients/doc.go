// Package realclients holds end-to-end tests that load every mode the way
// users load servers, not only the way the benchmark's driver does (one new
// connection per request): clients that keep their connections open and
// idle, clients that send back to back on one kept-alive connection, and
// clients that send slowly or stall. It has no code of its own: the tests
// start the project's binaries (and the Node app, where node is present)
// through bench, as a run would.
package realclients
