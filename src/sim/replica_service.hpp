// Replica-server behaviour that needs no Thrift types: remote commands (RPC_CLI_CLI_CALL output
// text) and the HTTP endpoints served on the RPC port, as pure functions of the model.
#pragma once

#include "sim/model.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace tablemigrator::sim {

struct http_request {
    std::string method = "GET";
    std::string target; // path + query, as received
};

struct http_reply {
    int status = 200;
    std::string body;
    std::string location; // for 307
};

// Splits "path?query" into the normalised path and decoded parameters. Returns false on a
// duplicate parameter (the server answers 400).
bool parse_http_target(std::string_view target, std::string& path,
                       std::vector<std::pair<std::string, std::string>>& params);

// The text a replica node answers to a remote command (§3.1: unknown -> "unknown command '<cmd>'").
std::string replica_remote_command(cluster_state& c, int node, std::string_view cmd,
                                   const std::vector<std::string>& args);

// The text a meta server answers to a remote command.
std::string meta_remote_command(cluster_state& c, int meta, std::string_view cmd,
                                const std::vector<std::string>& args);

// HTTP on a replica node's RPC port (§3.4-§3.6, §4.1, progress doc §4.1).
http_reply replica_http(cluster_state& c, int node, const http_request& req);

// HTTP on a meta server's RPC port (only /version; everything else is "service not found").
http_reply meta_http(cluster_state& c, int meta, const http_request& req);

// The host name a server reports (`host:port` on master, §1.2 of the progress doc).
std::string node_name(const cluster_state& c, int node);

// Formats a perf-counter number the way RapidJSON does (12 -> "12.0", 0.5 -> "0.5").
std::string format_counter_value(double v);

} // namespace tablemigrator::sim
