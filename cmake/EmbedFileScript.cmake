# Run by relayscope_embed at build time: writes OUT, a C++ file defining
# SYMBOL as the text of IN (a raw string literal, split so that no piece
# exceeds the compilers' string-literal limits).
file(READ ${IN} content)
string(LENGTH "${content}" length)
set(body "")
set(chunk 8000)
set(pos 0)
while(pos LESS length)
  string(SUBSTRING "${content}" ${pos} ${chunk} piece)
  string(APPEND body "R\"rs_embed(${piece})rs_embed\"\n")
  math(EXPR pos "${pos} + ${chunk}")
endwhile()
if(body STREQUAL "")
  set(body "\"\"")
endif()
file(WRITE ${OUT} "// Generated from ${IN}; do not edit.\nextern const char ${SYMBOL}[];\nconst char ${SYMBOL}[] =\n${body};\n")
