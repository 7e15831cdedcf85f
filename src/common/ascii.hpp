// ASCII case, the one helper for the whole project: mail protocols compare
// verbs, domains and header names case-insensitively in ASCII only, never by
// the C locale (std::tolower alone depends on it and is undefined for
// negative chars).
#pragma once

#include <string>
#include <string_view>

namespace relayscope::ascii {

constexpr char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}
constexpr char upper(char c) {
  return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
}

std::string lower(std::string_view s);
std::string upper(std::string_view s);
void lower_in_place(std::string& s);
bool iequals(std::string_view a, std::string_view b);
// Whether `s` starts with `prefix`, ignoring ASCII case.
bool istarts_with(std::string_view s, std::string_view prefix);

}  // namespace relayscope::ascii
