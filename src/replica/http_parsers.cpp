// Parsers for replica-server HTTP bodies. Shapes follow pegasus-protocol.md §3.5-§3.7 and §4.2.
#include <tablemigrator/replica/http_parsers.hpp>

#include "json_util.hpp"

#include <tablemigrator/core/error.hpp>

namespace tablemigrator::replica {

namespace json = boost::json;
using detail::as_int64;
using detail::int_member;
using detail::parse_json_object;
using detail::string_member;

namespace {

error_code bad_json() {
    return make_error_code(client_errc::bad_json);
}

} // namespace

result<data_version_map> parse_data_version(std::string_view body) {
    json::value storage;
    auto obj = parse_json_object(body, storage);
    if (!obj)
        return obj.error();
    data_version_map out;
    for (const auto& [key, value] : **obj) {
        auto pidx = parse_int32(key);
        if (!pidx || !value.is_object())
            return bad_json();
        const auto* dv = value.get_object().if_contains("data_version");
        if (!dv)
            return bad_json();
        // The server sends a string; accept a number too, since the meaning is the same.
        if (dv->is_string())
            out[*pidx] = std::string(dv->get_string());
        else if (auto n = as_int64(*dv))
            out[*pidx] = std::to_string(*n);
        else
            return bad_json();
    }
    return out;
}

result<dup_status_map> parse_replica_duplication(std::string_view body) {
    json::value storage;
    auto obj = parse_json_object(body, storage);
    if (!obj)
        return obj.error();
    dup_status_map out;
    for (const auto& [dup_key, partitions] : **obj) {
        auto dupid = parse_int32(dup_key);
        if (!dupid || !partitions.is_object())
            return bad_json();
        auto& dup = out[*dupid];
        for (const auto& [pid_key, state] : partitions.get_object()) {
            auto pid = parse_partition_id(pid_key);
            if (!pid || !state.is_object())
                return bad_json();
            const auto& s = state.get_object();
            dup_partition_status st;
            const auto* duplicating = s.if_contains("duplicating");
            auto not_confirmed = int_member(s, "not_confirmed_mutations_num");
            auto not_duplicated = int_member(s, "not_duplicated_mutations_num");
            if (!duplicating || !duplicating->is_bool() || !not_confirmed || !not_duplicated)
                return bad_json();
            st.duplicating = duplicating->get_bool();
            st.not_confirmed_mutations_num = *not_confirmed;
            st.not_duplicated_mutations_num = *not_duplicated;
            st.fail_mode = string_member(s, "fail_mode").value_or("");
            st.remote_app_name = string_member(s, "remote_app_name");
            dup[*pid] = std::move(st);
        }
    }
    return out;
}

std::string url_encode(std::string_view text) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size());
    for (const char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
                                c == '~';
        if (unreserved) {
            out.push_back(ch);
        } else {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 0x0F]);
        }
    }
    return out;
}

std::string metrics_target(const metrics_query& query) {
    std::string target = "/metrics";
    char sep = '?';
    // Commas separate list items on the server side, so they stay literal between items.
    auto add_list = [&](std::string_view key, const std::vector<std::string>& items) {
        if (items.empty())
            return;
        target.push_back(sep);
        sep = '&';
        target.append(key);
        target.push_back('=');
        for (std::size_t i = 0; i < items.size(); ++i) {
            if (i)
                target.push_back(',');
            target += url_encode(items[i]);
        }
    };
    add_list("with_metric_fields", query.with_metric_fields);
    add_list("types", query.types);
    add_list("ids", query.ids);
    std::vector<std::string> attrs;
    for (const auto& [name, value] : query.attributes) {
        attrs.push_back(name);
        attrs.push_back(value);
    }
    add_list("attributes", attrs);
    add_list("metrics", query.metrics);
    if (query.detail)
        add_list("detail", {*query.detail ? "true" : "false"});
    return target;
}

metrics_query table_dup_metrics_query(std::int32_t app_id) {
    metrics_query q;
    q.with_metric_fields = {"name", "value"};
    q.types = {"replica"};
    q.attributes = {{"table_id", std::to_string(app_id)}};
    q.metrics = {"dup_pending_mutations", "dup_shipped_successful_requests",
                 "dup_shipped_failed_requests", "dup_confirmed_mutations"};
    return q;
}

result<metrics_snapshot> parse_metrics(std::string_view body) {
    json::value storage;
    auto obj = parse_json_object(body, storage);
    if (!obj)
        return obj.error();
    const auto& o = **obj;
    metrics_snapshot out;
    out.cluster = string_member(o, "cluster").value_or("");
    out.role = string_member(o, "role").value_or("");
    out.host = string_member(o, "host").value_or("");
    out.port = int_member(o, "port").value_or(0);
    if (auto ts = int_member(o, "timestamp_ns"); ts && *ts >= 0)
        out.timestamp_ns = static_cast<std::uint64_t>(*ts);
    else if (const auto* v = o.if_contains("timestamp_ns"); v && v->is_uint64())
        out.timestamp_ns = v->get_uint64();
    const auto* entities = o.if_contains("entities");
    if (!entities || !entities->is_array())
        return bad_json();
    for (const auto& e : entities->get_array()) {
        if (!e.is_object())
            return bad_json();
        const auto& eo = e.get_object();
        metric_entity ent;
        auto type = string_member(eo, "type");
        auto id = string_member(eo, "id");
        if (!type || !id)
            return bad_json();
        ent.type = std::move(*type);
        ent.id = std::move(*id);
        if (const auto* attrs = eo.if_contains("attributes")) {
            if (!attrs->is_object())
                return bad_json();
            for (const auto& [k, v] : attrs->get_object()) {
                auto text = detail::scalar_text(v);
                if (!text)
                    return bad_json();
                ent.attributes.emplace(std::string(k), std::move(*text));
            }
        }
        if (const auto* metrics = eo.if_contains("metrics")) {
            if (!metrics->is_array())
                return bad_json();
            for (const auto& m : metrics->get_array()) {
                if (!m.is_object())
                    return bad_json();
                auto name = string_member(m.get_object(), "name");
                if (!name)
                    return bad_json();
                // Percentile metrics carry p50/p99... instead of an integral value: skipped.
                if (auto value = int_member(m.get_object(), "value"))
                    ent.metrics.emplace(std::move(*name), *value);
            }
        }
        out.entities.push_back(std::move(ent));
    }
    return out;
}

result<version_info> parse_version(std::string_view body) {
    json::value storage;
    auto obj = parse_json_object(body, storage);
    if (!obj)
        return obj.error();
    auto version = string_member(**obj, "Version");
    if (!version)
        return bad_json();
    return version_info{std::move(*version), string_member(**obj, "GitCommit").value_or("")};
}

result<config_flag> parse_config(std::string_view body) {
    json::value storage;
    auto obj = parse_json_object(body, storage);
    if (!obj)
        return obj.error();
    config_flag out;
    for (const auto& [k, v] : **obj)
        if (auto text = detail::scalar_text(v))
            out.fields.emplace(std::string(k), std::move(*text));
    if (auto it = out.fields.find("name"); it != out.fields.end())
        out.name = it->second;
    if (auto it = out.fields.find("value"); it != out.fields.end())
        out.value = it->second;
    return out;
}

result<update_config_status> parse_update_config(std::string_view body) {
    json::value storage;
    auto obj = parse_json_object(body, storage);
    // update_config_status holds an error_code itself, so the error must be placed explicitly.
    using r = result<update_config_status>;
    if (!obj)
        return r(boost::system::in_place_error, obj.error());
    auto text = string_member(**obj, "update_status");
    if (!text || text->empty())
        return r(boost::system::in_place_error, bad_json());
    update_config_status out;
    const auto colon = text->find(':');
    const std::string name = text->substr(0, colon);
    if (name.rfind("ERR_", 0) != 0)
        return r(boost::system::in_place_error, bad_json());
    out.err = rdsn_error_from_name(name);
    if (colon != std::string::npos) {
        auto rest = std::string_view(*text).substr(colon + 1);
        while (!rest.empty() && rest.front() == ' ')
            rest.remove_prefix(1);
        out.detail = std::string(rest);
    }
    return out;
}

} // namespace tablemigrator::replica
