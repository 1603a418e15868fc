import Foundation
import PackagePlugin

/// Writes the BuildInfo module's generated file before every build: the version from the
/// package's `VERSION` file and the git commit the build comes from (none outside a git checkout).
///
/// A prebuild command runs `write-build-info`, a shell script beside this file, at the start of
/// each `swift build` (and so of `swift test`, `swift package plugin`, sanitizer builds). The script
/// rewrites its output only when the text changes, so an unchanged commit recompiles nothing.
@main
struct BuildInfoPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let package = context.package.directoryURL
        let output = context.pluginWorkDirectoryURL.appending(path: "generated")
        return [
            .prebuildCommand(
                displayName: "BuildInfo: version and git commit",
                executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: [
                    package.appending(path: "Plugins/BuildInfoPlugin/write-build-info").path(percentEncoded: false),
                    package.path(percentEncoded: false),
                    output.appending(path: "BuildInfo+Generated.swift").path(percentEncoded: false),
                ],
                outputFilesDirectory: output),
        ]
    }
}
