-- Per-extension build script, included by the repo's premake.lua (kit-app-template python_ui shape):
-- links the extension's folders into the Kit app build's extension target folder.
local ext = get_current_extension_info()
project_ext(ext)
repo_build.prebuild_link {
    { "config", ext.target_dir .. "/config" },
    { "data", ext.target_dir .. "/data" },
    { "docs", ext.target_dir .. "/docs" },
    { "isaaclab_trainer", ext.target_dir .. "/isaaclab_trainer" },
}
