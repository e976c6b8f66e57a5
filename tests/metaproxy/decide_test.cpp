// Unit tests for the MetaProxy switch's pure decisions: parsing, serialising, paths,
// validation, the decision table and the classification after a lost write reply.
#include <tablemigrator/core/error.hpp>
#include <tablemigrator/core/zk_error.hpp>
#include <tablemigrator/metaproxy/switch.hpp>

#include <doctest/doctest.h>

using namespace tablemigrator;
using namespace tablemigrator::metaproxy;

namespace {

switch_request request() {
    switch_request r;
    r.table = "temp";
    r.root = "/metaproxy";
    r.source_cluster = "onebox";
    r.target_cluster = "onebox2";
    r.expected_target_cluster = "onebox2";
    r.target_meta_addrs = "10.0.0.1:34601,10.0.0.2:34601";
    return r;
}

} // namespace

TEST_CASE("metaproxy entry: parses the JSON MetaProxy reads") {
    auto e = parse_entry(R"({"cluster_name": "onebox", "meta_addrs": "a:1,b:2"})");
    REQUIRE(e.has_value());
    CHECK(e->cluster_name == "onebox");
    CHECK(e->meta_addrs == "a:1,b:2");
}

TEST_CASE("metaproxy entry: rejects what is not {cluster_name, meta_addrs} strings") {
    CHECK(parse_entry("").error() == client_errc::bad_json);
    CHECK(parse_entry("not json").error() == client_errc::bad_json);
    CHECK(parse_entry("[1,2]").error() == client_errc::bad_json);
    CHECK(parse_entry(R"({"cluster_name": "x"})").error() == client_errc::bad_json);
    CHECK(parse_entry(R"({"cluster_name": 1, "meta_addrs": "a:1"})").error() ==
          client_errc::bad_json);
    // The RFC's outdated form is not what MetaProxy reads.
    CHECK(parse_entry(R"({"cluster": "x", "meta-addrs": ["a:1"]})").error() ==
          client_errc::bad_json);
}

TEST_CASE("metaproxy entry: serialising escapes quotes and backslashes and round-trips") {
    const proxy_entry e{"we\"ird\\name", "a:1,b:2"};
    const auto text = serialize_entry(e);
    CHECK(text == R"({"cluster_name":"we\"ird\\name","meta_addrs":"a:1,b:2"})");
    auto back = parse_entry(text);
    REQUIRE(back.has_value());
    CHECK(back->cluster_name == e.cluster_name);
    CHECK(back->meta_addrs == e.meta_addrs);
}

TEST_CASE("metaproxy lists: split trims, drops empties; comparison ignores order") {
    CHECK(split_list(" a:1 , b:2,,") == std::vector<std::string>{"a:1", "b:2"});
    CHECK(split_list("").empty());
    CHECK(same_meta_list("a:1,b:2", "b:2, a:1"));
    CHECK_FALSE(same_meta_list("a:1,b:2", "a:1"));
    CHECK_FALSE(same_meta_list("a:1,b:2", "a:1,c:3"));
}

TEST_CASE("metaproxy paths: entry path and ZooKeeper connect string") {
    CHECK(entry_path("/metaproxy", "t") == "/metaproxy/t");
    CHECK(entry_path("/metaproxy/", "t") == "/metaproxy/t");
    CHECK(entry_path("/", "t") == "/t");
    CHECK(zk_connect_string("h1:2181, h2:2181") == "h1:2181,h2:2181");
    CHECK(zk_connect_string("h1:2181,h2:2181", "/pegasus/") == "h1:2181,h2:2181/pegasus");
    CHECK(zk_connect_string("h1:2181", "pegasus") == "h1:2181/pegasus");
    CHECK(zk_connect_string("h1:2181", "") == "h1:2181");
}

TEST_CASE("metaproxy validation: the target's name must equal -c") {
    std::string msg;
    CHECK(validate_request(request(), msg).has_value());
    auto r = request();
    r.expected_target_cluster = "other";
    auto v = validate_request(r, msg);
    REQUIRE(v.has_error());
    CHECK(v.error() == client_errc::precondition_failed);
    CHECK(msg.find("other") != std::string::npos);
}

TEST_CASE("metaproxy validation: names, root and meta list are required") {
    std::string msg;
    auto r = request();
    r.table = "";
    CHECK(validate_request(r, msg).error() == client_errc::invalid_argument);
    r = request();
    r.table = "a/b";
    CHECK(validate_request(r, msg).error() == client_errc::invalid_argument);
    r = request();
    r.root = "relative";
    CHECK(validate_request(r, msg).error() == client_errc::invalid_argument);
    r = request();
    r.target_meta_addrs = " , ";
    CHECK(validate_request(r, msg).error() == client_errc::invalid_argument);
    r = request();
    r.source_cluster = "onebox2";
    CHECK(validate_request(r, msg).error() == client_errc::precondition_failed);
}

TEST_CASE("metaproxy warnings: a meta list of fewer than two addresses is flagged") {
    auto r = request();
    CHECK(request_warnings(r).empty());
    r.target_meta_addrs = "10.0.0.1:34601";
    const auto w = request_warnings(r);
    REQUIRE(w.size() == 1);
    CHECK(w[0].find("fewer than two") != std::string::npos);
}

TEST_CASE("metaproxy decide: the source entry is written") {
    const auto d = decide(request(), R"({"cluster_name":"onebox","meta_addrs":"s:1,s:2"})");
    CHECK(d.what == action::write);
}

TEST_CASE("metaproxy decide: an entry naming the target cluster and meta list is already switched") {
    const auto d = decide(request(),
                          R"({"cluster_name":"onebox2","meta_addrs":"10.0.0.2:34601,10.0.0.1:34601"})");
    CHECK(d.what == action::already_switched);
}

TEST_CASE("metaproxy decide: the target cluster with another meta list is refused") {
    const auto d = decide(request(), R"({"cluster_name":"onebox2","meta_addrs":"x:1,y:2"})");
    CHECK(d.what == action::refuse);
    CHECK(d.error == client_errc::precondition_failed);
}

TEST_CASE("metaproxy decide: an entry naming a third cluster is refused") {
    const auto d = decide(request(), R"({"cluster_name":"elsewhere","meta_addrs":"x:1,y:2"})");
    CHECK(d.what == action::refuse);
    CHECK(d.error == client_errc::precondition_failed);
    CHECK(d.message.find("elsewhere") != std::string::npos);
}

TEST_CASE("metaproxy decide: bad JSON is refused") {
    const auto d = decide(request(), "garbage");
    CHECK(d.what == action::refuse);
    CHECK(d.error == client_errc::bad_json);
}

TEST_CASE("metaproxy decide: a missing entry is created only with create_missing") {
    auto r = request();
    const auto refused = decide(r, std::nullopt);
    CHECK(refused.what == action::refuse);
    CHECK(refused.error == zk_errc::no_node);
    r.create_missing = true;
    CHECK(decide(r, std::nullopt).what == action::create);
}

TEST_CASE("metaproxy classify: what a re-read says about a write whose reply was lost") {
    const std::string old_data = "old", new_data = "new";
    zk::node n;
    n.data = new_data;
    n.stat.version = 4;
    CHECK(classify_observation(n, old_data, 3, new_data) == observation::ours);
    n.data = old_data;
    n.stat.version = 3;
    CHECK(classify_observation(n, old_data, 3, new_data) == observation::untouched);
    n.stat.version = 4; // same bytes, but someone wrote in between
    CHECK(classify_observation(n, old_data, 3, new_data) == observation::changed_by_other);
    n.data = "third";
    CHECK(classify_observation(n, old_data, 3, new_data) == observation::changed_by_other);
    CHECK(classify_observation(std::nullopt, old_data, 3, new_data) ==
          observation::changed_by_other);
    // Creating: absence means our create did not run.
    CHECK(classify_observation(std::nullopt, std::nullopt, -1, new_data) == observation::untouched);
    n.data = new_data;
    CHECK(classify_observation(n, std::nullopt, -1, new_data) == observation::ours);
}
