// Package homes holds homes made by released versions of hiso
// (testdata/vN, each made once by make.sh and never regenerated), and a
// test that the current code opens every one of them and shows the same
// history, contacts and requests as the version that made it.
//
// A change of the storage format (a migration, a column, a sealing or
// keystore format) that breaks homes already on users' disks fails
// TestHomesOutliveReleases. A new format gets a new fixture next to the
// old ones: see make.sh.
package homes
