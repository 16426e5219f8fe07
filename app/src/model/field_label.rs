//! The names people saw on the forms for the API's field names, for the places that list
//! fields (the conflict dialog, the sync health merge view): "Permanent address", never
//! `permanent_address`.

/// The form's label for `field` of a CARE request body.
pub fn field_label(field: &str) -> String {
    let known = match field {
        "name" => "Name",
        "phone_number" => "Phone number",
        "emergency_phone_number" => "Emergency phone number",
        "gender" => "Gender",
        "date_of_birth" => "Date of birth",
        "year_of_birth" => "Year of birth",
        "age" => "Age",
        "address" => "Address",
        "permanent_address" => "Permanent address",
        "pincode" => "Pincode",
        "blood_group" => "Blood group",
        "geo_organization" => "Area",
        "identifiers" => "Identifiers",
        "status" => "Status",
        "encounter_class" => "Class",
        "priority" => "Priority",
        "organizations" => "Departments",
        "period" => "Period",
        "note" => "Reason for visit",
        "reason" => "Reason",
        "title" => "Title",
        "emergency" => "Emergency",
        "assigned_to" => "Assigned to",
        "referring_facility_contact_name" => "Contact name",
        "referring_facility_contact_number" => "Contact number",
        _ => "",
    };
    if !known.is_empty() {
        return known.to_string();
    }
    humanize(field)
}

/// `some_field_name` → "Some field name".
fn humanize(field: &str) -> String {
    let words = field.replace(['_', '.'], " ");
    let mut chars = words.trim().chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_labels_for_api_fields() {
        assert_eq!(field_label("permanent_address"), "Permanent address");
        assert_eq!(field_label("geo_organization"), "Area");
        assert_eq!(field_label("encounter_class"), "Class");
        assert_eq!(
            field_label("hospitalization_details"),
            "Hospitalization details"
        );
        assert_eq!(field_label(""), "");
    }
}
