import Foundation
import Testing

/// README's "The library in 20 lines" is `Examples/Readme/main.swift`, which the package builds as
/// `readme-example`; this test keeps the two byte for byte the same, so the README shows code that
/// compiles.
@Suite("README example")
struct ReadmeExampleTests {
    /// The package root, three folders above this file (Tests/SwiftCTRTests/…).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The first ```swift block after `heading`, with its final newline.
    static func codeBlock(after heading: String, in markdown: String) -> String? {
        guard let section = markdown.range(of: "\n" + heading + "\n"),
              let open = markdown.range(of: "```swift\n", range: section.upperBound ..< markdown.endIndex),
              let close = markdown.range(of: "\n```\n", range: open.upperBound ..< markdown.endIndex)
        else { return nil }
        return String(markdown[open.upperBound ..< close.lowerBound]) + "\n"
    }

    @Test func readmeBlockIsTheExampleTarget() throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let example = try String(contentsOf: Self.root.appendingPathComponent("Examples/Readme/main.swift"), encoding: .utf8)
        let block = try #require(Self.codeBlock(after: "## The library in 20 lines", in: readme),
                                 "README.md has no ```swift block under '## The library in 20 lines'")
        #expect(block == example, "README's block and Examples/Readme/main.swift differ; copy one into the other")
    }

    @Test func packageBuildsTheExample() throws {
        let manifest = try String(contentsOf: Self.root.appendingPathComponent("Package.swift"), encoding: .utf8)
        #expect(manifest.contains(#".executableTarget(name: "readme-example", dependencies: ["SwiftCTR"], path: "Examples/Readme""#))
    }

    @Test func codeBlockIsFoundAndCutAtItsFence() {
        let markdown = "# T\n\n## A\n\n```swift\nlet a = 1\n```\n\n## B\n\n```swift\nlet b = 2\nprint(b)\n```\n"
        #expect(Self.codeBlock(after: "## B", in: markdown) == "let b = 2\nprint(b)\n")
        #expect(Self.codeBlock(after: "## A", in: markdown) == "let a = 1\n")
        #expect(Self.codeBlock(after: "## C", in: markdown) == nil)
    }
}
