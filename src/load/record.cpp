// The record line format: escaping, writing and parsing (see record.hpp for the grammar).
#include "load/record.hpp"

#include <tablemigrator/core/error.hpp>

#include <charconv>
#include <cstdio>
#include <fstream>
#include <ostream>
#include <sstream>

namespace tablemigrator::load {

namespace {

constexpr std::string_view magic = "pegasus-load-record 1";

bool plain(unsigned char c) {
    return c > 0x20 && c < 0x7f && c != '%' && c != '~';
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

std::vector<std::string_view> split_spaces(std::string_view line) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && line[i] == ' ')
            ++i;
        std::size_t j = i;
        while (j < line.size() && line[j] != ' ')
            ++j;
        if (j > i)
            out.push_back(line.substr(i, j - i));
        i = j;
    }
    return out;
}

template <class Int>
bool parse_int(std::string_view s, Int& v) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return ec == std::errc() && p == s.data() + s.size();
}

result<load_record> fail(std::string* why, std::size_t line_no, std::string_view what) {
    if (why)
        *why = "line " + std::to_string(line_no) + ": " + std::string(what);
    return make_error_code(client_errc::invalid_argument);
}

} // namespace

std::string escape_field(std::string_view raw) {
    if (raw.empty())
        return "~";
    static constexpr char digits[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(raw.size());
    for (unsigned char c : raw) {
        if (plain(c)) {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(digits[c >> 4]);
            out.push_back(digits[c & 15]);
        }
    }
    return out;
}

result<std::string> unescape_field(std::string_view field) {
    if (field == "~")
        return std::string();
    std::string out;
    out.reserve(field.size());
    for (std::size_t i = 0; i < field.size(); ++i) {
        char c = field[i];
        if (c == '%') {
            if (i + 2 >= field.size())
                return make_error_code(client_errc::invalid_argument);
            int hi = hex_digit(field[i + 1]);
            int lo = hex_digit(field[i + 2]);
            if (hi < 0 || lo < 0)
                return make_error_code(client_errc::invalid_argument);
            out.push_back(static_cast<char>((hi << 4) | lo));
            i += 2;
        } else if (!plain(static_cast<unsigned char>(c))) {
            return make_error_code(client_errc::invalid_argument);
        } else {
            out.push_back(c);
        }
    }
    return out;
}

void write_record_header(std::ostream& out) {
    out << magic << '\n';
}

void write_ack_line(std::ostream& out, const acked_write& a) {
    out << "ack " << escape_field(a.table) << ' ' << a.unix_ms << ' ' << escape_field(a.cluster)
        << ' ' << escape_field(a.hash_key) << ' ' << escape_field(a.sort_key) << ' '
        << escape_field(a.value) << '\n';
}

void write_table_line(std::ostream& out, const table_summary& t) {
    out << "table " << escape_field(t.table) << " attempted " << t.attempted << " acknowledged "
        << t.acknowledged << " failed " << t.failed << " downtime_ms " << t.write_downtime_ms
        << " unrecovered " << (t.downtime_unrecovered ? 1 : 0) << '\n';
}

void write_record(std::ostream& out, const load_record& r) {
    write_record_header(out);
    for (const auto& t : r.tables)
        write_table_line(out, t);
    for (const auto& a : r.acks)
        write_ack_line(out, a);
}

result<load_record> parse_record(std::string_view text, std::string* why) {
    load_record r;
    std::size_t line_no = 0;
    bool seen_magic = false;
    while (!text.empty()) {
        auto nl = text.find('\n');
        if (nl == std::string_view::npos && seen_magic)
            break; // a torn last line: the writer died while writing it
        auto line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        ++line_no;
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        if (line.empty())
            continue;
        if (!seen_magic) {
            if (line != magic)
                return fail(why, line_no,
                            "not a pegasus-load record (expected '" + std::string(magic) + "')");
            seen_magic = true;
            continue;
        }
        auto f = split_spaces(line);
        if (f.empty())
            continue;
        if (f[0] == "table") {
            if (f.size() != 12 || f[2] != "attempted" || f[4] != "acknowledged" ||
                f[6] != "failed" || f[8] != "downtime_ms" || f[10] != "unrecovered")
                return fail(why, line_no, "malformed table line");
            table_summary t;
            auto name = unescape_field(f[1]);
            int unrecovered = 0;
            if (!name || !parse_int(f[3], t.attempted) || !parse_int(f[5], t.acknowledged) ||
                !parse_int(f[7], t.failed) || !parse_int(f[9], t.write_downtime_ms) ||
                !parse_int(f[11], unrecovered) || (unrecovered != 0 && unrecovered != 1))
                return fail(why, line_no, "bad value in table line");
            t.table = std::move(*name);
            t.downtime_unrecovered = unrecovered == 1;
            r.tables.push_back(std::move(t));
        } else if (f[0] == "ack") {
            if (f.size() != 7)
                return fail(why, line_no, "malformed ack line");
            acked_write a;
            auto table = unescape_field(f[1]);
            auto cluster = unescape_field(f[3]);
            auto hk = unescape_field(f[4]);
            auto sk = unescape_field(f[5]);
            auto v = unescape_field(f[6]);
            if (!table || !cluster || !hk || !sk || !v || !parse_int(f[2], a.unix_ms))
                return fail(why, line_no, "bad value in ack line");
            a.table = std::move(*table);
            a.cluster = std::move(*cluster);
            a.hash_key = std::move(*hk);
            a.sort_key = std::move(*sk);
            a.value = std::move(*v);
            r.acks.push_back(std::move(a));
        } else {
            return fail(why, line_no, "unknown line kind '" + std::string(f[0]) + "'");
        }
    }
    if (!seen_magic)
        return fail(why, line_no, "empty record");
    return r;
}

status save_record_file(const std::string& path, const load_record& r, std::string* why) {
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) {
            if (why)
                *why = "cannot open " + tmp + " for writing";
            return make_error_code(client_errc::invalid_argument);
        }
        write_record(out, r);
        out.flush();
        if (!out) {
            if (why)
                *why = "cannot write " + tmp;
            return make_error_code(client_errc::invalid_argument);
        }
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        if (why)
            *why = "cannot rename " + tmp + " to " + path;
        return make_error_code(client_errc::invalid_argument);
    }
    return {};
}

result<load_record> load_record_file(const std::string& path, std::string* why) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        if (why)
            *why = "cannot read " + path;
        return make_error_code(client_errc::invalid_argument);
    }
    std::stringstream ss;
    ss << in.rdbuf();
    std::string inner;
    auto r = parse_record(ss.str(), &inner);
    if (!r && why)
        *why = path + ": " + inner;
    return r;
}

} // namespace tablemigrator::load
