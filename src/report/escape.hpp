// Making untrusted text (reply lines from remote servers) safe for each
// output: terminals, Markdown, CSV, HTML. Plus the small layout helpers the
// text renderers share.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace relayscope::report {

// Control characters (C0, DEL and UTF-8-encoded C1) become '?': a reply line
// must not be able to drive the terminal that prints it.
std::string printable(std::string_view s);

std::string markdown_escape(std::string_view s);  // printable + backslash escapes
std::string csv_field(std::string_view s);        // RFC 4180 quoting when needed
std::string html_escape(std::string_view s);      // printable + &<>"'

// "{ a, b, c }" (the IMC's notation for several runs); a single value alone.
std::string figures(const std::vector<std::string>& values);

// Left-aligned columns: each cell padded to its column's width, the last one
// not padded (no trailing blanks). A column is as wide as min_widths[i] or
// its widest cell plus two, whichever is more. The first row is the header.
std::string text_table(const std::vector<std::vector<std::string>>& rows,
                       const std::vector<std::size_t>& min_widths);

}  // namespace relayscope::report
