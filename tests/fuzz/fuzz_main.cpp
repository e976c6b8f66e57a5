// libFuzzer shim: one executable per target, selected at compile time by TM_FUZZ_TARGET.
#include "targets.hpp"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const auto* t = tablemigrator::fuzz::find_target(TM_FUZZ_TARGET);
    if (t == nullptr)
        std::abort();
    return t->run(data, size);
}
