/// What is wrong with a setting's value, without saying where it came from (the loader adds that).
struct SettingProblem: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
