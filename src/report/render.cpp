// See render.hpp: picking a renderer by name.
#include "report/render.hpp"

namespace relayscope::report {

Expected<Format> parse_format(const std::string& name) {
  if (name == "text") return Format::text;
  if (name == "markdown" || name == "md") return Format::markdown;
  if (name == "json") return Format::json;
  if (name == "csv") return Format::csv;
  if (name == "html") return Format::html;
  return make_error("unknown format '" + name + "' (text, markdown, json, csv or html)");
}

std::string render(const ReportData& data, Format format, const RenderOptions& options) {
  switch (format) {
    case Format::text:
      return render_text(data, options);
    case Format::markdown:
      return render_markdown(data, options);
    case Format::json:
      return render_json(data, options);
    case Format::csv:
      return render_csv(data, options);
    case Format::html:
      return render_html(data, options);
  }
  return render_text(data, options);
}

}  // namespace relayscope::report
