#include "sim/replica_check.h"

namespace kvs::sim {
namespace {

using View = std::map<std::string, Entry>;  // key -> newest version <= W

View committed_view(const Replica& r, Lsn w) {
  View view;
  for (const WalRecord& rec : r.to_records()) {
    const auto* e = std::get_if<Entry>(&rec);
    if (e == nullptr || e->lsn > w) continue;
    auto it = view.find(e->key);
    if (it == view.end() || it->second.lsn < e->lsn) view[e->key] = *e;
  }
  return view;
}

std::string describe_version(const View& v, const std::string& key) {
  auto it = v.find(key);
  if (it == v.end()) return "nothing";
  return "\"" + it->second.value + "\" (lsn " + std::to_string(it->second.lsn) + ")";
}

}  // namespace

void check_replicas(Cluster& cluster,
                    const std::map<std::string, std::optional<std::string>>& final_reads,
                    std::vector<Failure>* failures) {
  auto fail = [&](const std::string& check, const std::string& text) {
    failures->push_back(Failure{check, text});
  };
  if (!cluster.frontend_up()) return fail("convergence", "the frontend is not running at the end");
  const Lsn w = cluster.frontend().commit_watermark();
  const nlohmann::json fe = cluster.frontend().status();
  std::map<std::string, std::string> fe_state;  // node id -> state at the frontend
  for (const auto& n : fe["nodes"])
    fe_state[n["id"].get<std::string>()] = n["state"].get<std::string>();

  std::optional<View> reference;
  std::string reference_node;
  for (int i = 0; i < cluster.nodes(); ++i) {
    const std::string id = "s" + std::to_string(i + 1);
    StorageNode* node = cluster.node(i);
    if (node == nullptr) {
      fail("convergence", id + " is not running at the end of the liveness phase");
      continue;
    }
    const std::string state = node->status()["state"].get<std::string>();
    if (state != "member" || fe_state[id] != "member") {
      fail("convergence", id + " is not a member at the end of the liveness phase (node says " +
                              state + ", frontend says " +
                              (fe_state.count(id) ? fe_state[id] : "not connected") +
                              "; W=" + std::to_string(w) +
                              ", its complete=" + std::to_string(node->replica().complete()) + ")");
      continue;
    }
    if (node->replica().complete() < w) {
      fail("convergence", id + " is a member but holds writes only <= " +
                              std::to_string(node->replica().complete()) +
                              " < W=" + std::to_string(w));
    }
    View view = committed_view(node->replica(), w);
    if (!reference) {
      reference = std::move(view);
      reference_node = id;
      continue;
    }
    for (const auto& [key, e] : *reference) {
      auto it = view.find(key);
      if (it == view.end() || !(it->second == e)) {
        fail("convergence", "replicas differ at W=" + std::to_string(w) + ": key " + key + " is " +
                                describe_version(*reference, key) + " on " + reference_node +
                                " but " + describe_version(view, key) + " on " + id);
        break;
      }
    }
    for (const auto& [key, e] : view) {
      if (reference->count(key) == 0) {
        fail("convergence", "replicas differ at W=" + std::to_string(w) + ": key " + key + " is " +
                                describe_version(view, key) + " on " + id + " but nothing on " +
                                reference_node);
        break;
      }
    }
  }
  if (!reference) return;
  for (const auto& [key, value] : final_reads) {
    auto it = reference->find(key);
    const std::optional<std::string> held =
        it == reference->end() ? std::nullopt : std::optional<std::string>(it->second.value);
    if (held != value) {
      fail("final-state", "the final read of " + key + " returned " +
                              (value ? "\"" + *value + "\"" : std::string("nothing")) +
                              " but the replicas hold " + describe_version(*reference, key));
    }
  }
}

}  // namespace kvs::sim
