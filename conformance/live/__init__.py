"""Safety and economy of live runs: the host allow-list, the pre-flight doctor, the plan and destructive
budget, and the record of every resource a run touched."""
