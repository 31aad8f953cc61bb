// Package runfolder is the schema of a bench run folder: the file names, the
// Summary in summary.json, each mode's ModeRun in mode.json, the Env in
// env.json and the cross-check's data, with the helpers that read and write
// them. It runs nothing: bench writes run folders, report and regress read
// them, and neither reader imports the runner.
//
// A run folder holds:
//
//	env.json                machine, Go version, commit, image sha256, flags
//	summary.json            the Summary
//	summary.md, *.svg       written by package report
//	calibration/server.log  only when the baseline mode ran for the run's S alone
//	<mode>/mode.json        how the mode ran (a ModeRun)
//	<mode>/server.log       the server's output
//	<mode>/burst-<N>.*      the level's files (see package loadtest)
//	<mode>/keepalive-<C>.*  the files of C keep-alive clients, after the bursts
//	<mode>/round-<r>/...    the same files of round r > 1 (TrialDir)
//
// Two durations are easy to confuse, so each has one name. The run's S
// (Summary.S, a RunS) is one job's time at steady state, measured by
// BaselineMode's bursts; every ideal makespan and efficiency is counted in it. A
// mode's warm-up job time (ModeRun.WarmupJob) is the median of its own
// sequential warm-up requests, kept for reading beside S. Their JSON keys
// are "s" and "warmup_job"; a run folder stored when both were
// "calibration" is upgraded as it is loaded (LoadSummary, LoadModeRun).
// A burst's ideal makespan and efficiency are not stored: BurstIdeal
// derives them from its round's S wherever they are read.
package runfolder
