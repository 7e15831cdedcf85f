// The unit that builds the precompiled asio header (cmake/AsioPch.cmake);
// it has no code of its own.
