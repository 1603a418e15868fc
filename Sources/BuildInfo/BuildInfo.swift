/// What every tool's `--version` prints: `sockettutor 0.3.0`, and the commit when built from a
/// git checkout (`sockettutor 0.3.0 (848f55d)`).
///
/// `version` and `commit` come from a file written before each build by `BuildInfoPlugin`
/// (Plugins/BuildInfoPlugin): the version from the package's `VERSION` file, the one place it is
/// written down (the Makefile's .deb reads it too), and the commit from git.
public enum BuildInfo {
    /// `sockettutor 0.3.0 (848f55d)`, or `sockettutor 0.3.0` when the commit is unknown.
    public static var versionLine: String {
        commit.isEmpty ? "sockettutor \(version)" : "sockettutor \(version) (\(commit))"
    }
}
