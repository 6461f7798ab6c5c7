// Package windowing holds window assigners, triggers, the window operator
// and emit policies (tumbling, sliding, session, cumulate and global
// windows). It is being built under the windows issue.
package windowing
