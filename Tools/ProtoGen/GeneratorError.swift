/// A reason the generator refuses its input; printed to stderr, exit status 1.
struct GeneratorError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
