#include <tablemigrator/migrate/progress.hpp>

#include <doctest/doctest.h>

using namespace tablemigrator::migrate;
using namespace std::chrono_literals;

TEST_CASE("table_backlog: sums this table's unshipped decrees over its partitions") {
    auto b = table_backlog({{0, 100, 90}, {1, 50, 50}, {2, 10, 12}}, 3, dup_status::log);
    CHECK(b.complete);
    CHECK(b.backlog == 10);
    CHECK(b.status == dup_status::log);
}

TEST_CASE("table_backlog: a missing, unknown, duplicated or stray partition makes it incomplete") {
    CHECK_FALSE(table_backlog({{0, 1, 1}}, 2, dup_status::log).complete);
    CHECK_FALSE(table_backlog({{0, 1, 1}, {1, -1, -1}}, 2, dup_status::log).complete);
    CHECK_FALSE(table_backlog({{0, 1, 1}, {0, 1, 1}}, 2, dup_status::log).complete);
    CHECK_FALSE(table_backlog({{0, 1, 1}, {1, 1, 1}, {7, 1, 1}}, 2, dup_status::log).complete);
    CHECK_FALSE(table_backlog({}, 0, dup_status::log).complete);
}

TEST_CASE("rate_estimator: smooths acknowledged decrees per second and resets on regressions") {
    rate_estimator r(1.0);
    const time_point t0{};
    CHECK_FALSE(r.per_second());
    r.add(t0, 100);
    CHECK_FALSE(r.per_second());
    r.add(t0 + 2s, 300);
    REQUIRE(r.per_second());
    CHECK(*r.per_second() == doctest::Approx(100.0));
    r.add(t0 + 3s, 250); // a new primary restarted from an older decree
    CHECK_FALSE(r.per_second());
    r.add(t0 + 4s, 260);
    REQUIRE(r.per_second());
    CHECK(*r.per_second() == doctest::Approx(10.0));
}

TEST_CASE("drain_tracker: a partition is drained once its acknowledged decree reaches F_p") {
    drain_tracker t;
    auto d = t.update({{0, "a:1", 100, 90}, {1, "b:1", 50, 50}}, 2, true);
    CHECK(d.partitions == 2);
    CHECK(d.drained == 1);
    CHECK_FALSE(d.topology_changed);
    CHECK(t.freeze_decree(0) == 100);
    // Later empty writes raise the freeze-point reading, but F_p stays what was captured.
    d = t.update({{0, "a:1", 101, 100}, {1, "b:1", 51, 50}}, 2, false);
    CHECK(d.drained == 2);
    CHECK(t.freeze_decree(0) == 100);
}

TEST_CASE("drain_tracker: a partition without an answer at capture is captured later") {
    drain_tracker t;
    auto d = t.update({{0, "a:1", 10, 10}}, 2, true);
    CHECK(d.drained == 1);
    d = t.update({{0, "a:1", 10, 10}, {1, "b:1", 20, 19}}, 2, false);
    CHECK(d.drained == 1);
    d = t.update({{0, "a:1", 10, 10}, {1, "b:1", 21, 20}}, 2, false);
    CHECK(d.drained == 2);
}

TEST_CASE("drain_tracker: a new primary is a topology change and gets a fresh F_p") {
    drain_tracker t;
    t.update({{0, "a:1", 10, 10}}, 1, true);
    auto d = t.update({{0, "c:1", 12, 9}}, 1, false);
    CHECK(d.topology_changed);
    CHECK(d.drained == 0);
    CHECK(t.freeze_decree(0) == 12);
    d = t.update({{0, "c:1", 13, 12}}, 1, false);
    CHECK_FALSE(d.topology_changed);
    CHECK(d.drained == 1);
}

TEST_CASE("drain_tracker: unknown acknowledged decrees never count") {
    drain_tracker t;
    auto d = t.update({{0, "a:1", 5, -1}, {1, "", 5, 5}}, 2, true);
    CHECK(d.drained == 0);
}
