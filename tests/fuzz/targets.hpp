// Fuzz target bodies shared by the libFuzzer shims (clang, -Dfuzz=enabled) and the corpus-replay
// unit test (any compiler): every input in tests/fuzz/corpus/<name>/ goes through the same code.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace tablemigrator::fuzz {

struct target {
    std::string_view name; // also the corpus folder name
    int (*run)(const std::uint8_t* data, std::size_t size);
};

// Every target; names are stable (they name corpus folders and fuzz executables).
std::span<const target> all_targets();

// nullptr when unknown.
const target* find_target(std::string_view name);

} // namespace tablemigrator::fuzz
