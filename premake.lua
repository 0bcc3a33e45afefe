-- Build-system entry for building this repo as part of a Kit app (kit-app-template / Isaac Sim shape).
--
-- Not needed to use the extension: it is pure Python and runs straight from exts/
-- (`--ext-folder <repo>/exts --enable isaaclab_trainer`). Inside a kit-app-template checkout,
-- `./repo.sh build` runs premake on this file (premake's default name is premake5.lua; point the
-- template's premake step at this file or rename it).

-- Kit's build helpers, fetched by repo_kit_tools into _repo/ (kit-app-template/premake5.lua).
local repo_build = require("omni/repo/build")
repo_build.root = repo_build.get_abs_path(".")
local kit = require("_repo/deps/repo_kit_tools/kit-template/premake5-kit")
kit.setup_all({ cppdialect = "C++17" })

-- Register every extension under exts/ the way Isaac Sim's premake5.lua includes
-- source/extensions/*: each extension folder with its own premake5.lua gets included (see
-- exts/isaaclab_trainer/premake5.lua, the kit-app-template python_ui shape).
for _, script in ipairs(os.matchfiles(repo_build.root .. "/exts/*/premake5.lua")) do
    include(path.getdirectory(script))
end
