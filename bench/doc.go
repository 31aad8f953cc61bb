// Package bench runs the comparison: in rounds, every mode's server is
// started through package trial's harness, fired every burst level and its
// keep-alive clients (Config.Clients) at, and the round's bursts are counted
// in the round's S. It writes the run folder's data (package runfolder).
// It also holds the cross-check of the keep-alive clients against
// autocannon (RunCrossCheck).
//
// A run goes in rounds (Config.Runs): each round starts every mode once, in
// an order that rotates from round to round. Each round has its S, the time
// of one job on one core at steady state: the median time between
// consecutive answers of runfolder.BaselineMode's bursts in the round, a
// burst of SBurst after its warm-up (MeasureS) and then its levels (PoolS).
// Every ideal makespan of the round is counted in it, so efficiencies
// compare across modes and drift between rounds stays out of them. Each
// mode's warm-up job time (the median of its sequential warm-up) is kept
// beside it for reading; it is not S.
//
// A memory guard (trial.WatchMemory) kills a server whose processes
// together pass Config.MaxRSS and records the burst as stopped for memory.
//
// bench renders nothing for people: package report does.
package bench
