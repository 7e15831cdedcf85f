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

// The ABNF core classes (RFC 5234: ALPHA, DIGIT) and RFC 5321's Let-dig.
constexpr bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
constexpr bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
constexpr bool is_let_dig(char c) {
  return is_alpha(c) || is_digit(c);
}

std::string lower(std::string_view s);
std::string upper(std::string_view s);
void lower_in_place(std::string& s);
bool iequals(std::string_view a, std::string_view b);
// Whether `s` starts with `prefix`, ignoring ASCII case.
bool istarts_with(std::string_view s, std::string_view prefix);

}  // namespace relayscope::ascii
