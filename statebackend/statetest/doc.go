// Package statetest is the conformance suite of weir state backends, in the
// way net/http/httptest and raft's rafttest are public harnesses: a backend
// package proves it keeps the statebackend contract with
//
//	func TestConformance(t *testing.T) { statetest.Run(t, mybackend.New()) }
//
// Run opens tables with statebackend.Open over several key, namespace and
// value types (int64, string and structs; Void and real namespaces) and
// checks:
//
//   - Get, Put, Delete, Namespaces and Len, and Ptr when the table
//     implements statebackend.Pointers;
//   - that opening a name twice gives the same table, and with other types
//     an error;
//   - that key groups are isolated from each other;
//   - random operation sequences against a plain Go map. The seed is logged;
//     set the environment variable WEIR_SEED to replay one;
//   - snapshots: a view never changes while the task writes, deletes and
//     updates through Ptr, including while another goroutine reads it (run
//     the suite with -race), several live views at once, writes after
//     Release, partial key-group ranges;
//   - errors: snapshot ranges outside the backend's key groups, and
//     statebackend.ErrClosed after Close.
//
// Every backend is created for the key groups [4,12) of 16, so that code
// that forgets the range's start fails.
package statetest
