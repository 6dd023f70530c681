// The end-of-run state checks over the storage nodes ("convergence"): after the
// liveness phase every node must be running and a member, hold every committed write
// (complete >= W), and all must hold the same committed state: per key, the same newest
// version at or below W. The final reads must agree with that state ("final-state").
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/history.h"
#include "sim/cluster.h"

namespace kvs::sim {

// Appends what is wrong to *failures. final_reads: key -> value read by the final
// reader (nullopt: not found); only keys whose final read succeeded.
void check_replicas(Cluster& cluster,
                    const std::map<std::string, std::optional<std::string>>& final_reads,
                    std::vector<Failure>* failures);

}  // namespace kvs::sim
