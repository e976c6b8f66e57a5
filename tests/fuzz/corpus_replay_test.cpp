// Replays every file of tests/fuzz/corpus/<target>/ through the fuzz target bodies with the
// normal compiler, so each crash input ever found (and each seed) stays a regression test.
#include "targets.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using tablemigrator::fuzz::all_targets;

namespace {

std::vector<std::uint8_t> read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

} // namespace

TEST_CASE("fuzz corpus: every target has a seeded corpus folder") {
    const fs::path root = TM_FUZZ_CORPUS_DIR;
    for (const auto& t : all_targets()) {
        CAPTURE(std::string(t.name));
        const fs::path dir = root / std::string(t.name);
        REQUIRE(fs::is_directory(dir));
        CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) > 0);
    }
}

TEST_CASE("fuzz corpus: no corpus folder lacks a target") {
    std::set<std::string> names;
    for (const auto& t : all_targets())
        names.emplace(t.name);
    for (const auto& e : fs::directory_iterator(fs::path(TM_FUZZ_CORPUS_DIR))) {
        CAPTURE(e.path().string());
        CHECK(names.count(e.path().filename().string()) == 1);
    }
}

TEST_CASE("fuzz corpus: every corpus input runs through its target without crashing") {
    const fs::path root = TM_FUZZ_CORPUS_DIR;
    std::size_t inputs = 0;
    for (const auto& t : all_targets()) {
        const fs::path dir = root / std::string(t.name);
        if (!fs::is_directory(dir))
            continue;
        for (const auto& e : fs::directory_iterator(dir)) {
            if (!e.is_regular_file())
                continue;
            CAPTURE(e.path().string());
            const auto data = read_file(e.path());
            CHECK(t.run(data.data(), data.size()) == 0);
            ++inputs;
        }
    }
    CHECK(inputs > 0);
}
