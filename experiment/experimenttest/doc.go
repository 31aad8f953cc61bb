// Package experimenttest is what the experiments' tests share: a test
// binary that doubles as the fake servers (Main), the servers part of a
// test's Config (Servers), a run's trip through its folder (WriteAndLoad)
// and the check of a report's machine noise (CheckNoise).
package experimenttest
