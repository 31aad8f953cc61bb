// Package experimenttest is what the experiments' tests share: the servers
// part of a test's Config (Settings), a run's trip through its folder (WriteAndLoad)
// and the check of a report's machine noise (CheckNoise).
package experimenttest
